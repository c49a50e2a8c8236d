// Package mail owns the mail Gatehouse sends: one typed function per
// message (Renderer), each rendered from embedded templates into a
// plain-text and an HTML part; the senders (SMTP, safe by default, and the
// development log); the mail server URL's rules; and the outbox, which
// keeps each mail, sealed, in the same transaction as the change it is
// about, and delivers it in the background: retried with growing back-off,
// claimed by one replica at a time, deleted once sent or given up.
//
// It never logs a mail's body, link or code (the development sender, which
// exists to show mail in the log, excepted) and never speaks HTTP. Of
// Gatehouse's packages it imports only storage.
package mail
