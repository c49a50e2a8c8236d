// Package password owns everything Gatehouse does with users' passwords
// except keeping them:
//
//   - hashing them with argon2id and checking them against stored hashes in
//     the PHC string format, including a dummy check for unknown users so an
//     unknown email and a wrong password take the same time;
//   - the limit on how many hashes run at once, because hashing is the
//     costliest thing the server does and must not become a memory or CPU
//     denial of service;
//   - the policy that decides whether a new password is acceptable.
//
// It must not store anything (the storage package keeps the encoded hashes)
// and must not speak HTTP (the ui package turns its errors into pages). It
// never logs, and its errors never contain a password or a hash. It imports
// nothing of Gatehouse's.
package password
