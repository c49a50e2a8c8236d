package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A device cookie marks a browser where a user signed in before. It lets
// that browser past a lock that someone else's wrong guesses set on the
// user's email or on a shared address (OWASP's "device cookies"): its
// attempts are counted on a counter of their own, and it still needs the
// right password. It is signed, names one user and expires.
const deviceCookieLifetime = 180 * 24 * time.Hour

func (u *UI) deviceCookieName() string {
	if u.cfg.SecureCookies {
		return "__Host-gatehouse_device"
	}
	return "gatehouse_device"
}

// deviceMAC signs a device cookie's user and time of issue.
func (u *UI) deviceMAC(userID, issued string) []byte {
	m := hmac.New(sha256.New, u.cfg.DeviceKey)
	m.Write([]byte("gatehouse device v1\x00" + userID + "\x00" + issued))
	return m.Sum(nil)
}

// setDeviceCookie marks this browser as one userID signed in on, now.
func (u *UI) setDeviceCookie(w http.ResponseWriter, userID string, now time.Time) {
	if len(u.cfg.DeviceKey) == 0 {
		return
	}
	issued := strconv.FormatInt(now.Unix(), 10)
	value := base64.RawURLEncoding.EncodeToString([]byte(userID)) + "." + issued + "." +
		base64.RawURLEncoding.EncodeToString(u.deviceMAC(userID, issued))
	http.SetCookie(w, &http.Cookie{Name: u.deviceCookieName(), Value: value, Path: "/", MaxAge: int(deviceCookieLifetime / time.Second),
		HttpOnly: true, Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// knownDevice returns a name for this browser's device cookie when it is
// genuine, unexpired and for userID, or "". A tampered or foreign cookie is
// ignored, never an error.
func (u *UI) knownDevice(r *http.Request, userID string, now time.Time) string {
	if len(u.cfg.DeviceKey) == 0 || userID == "" {
		return ""
	}
	c, err := r.Cookie(u.deviceCookieName())
	if err != nil || len(c.Value) > 512 {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	who, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(who) != userID {
		return ""
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, u.deviceMAC(userID, parts[1])) {
		return ""
	}
	issued, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Sub(time.Unix(issued, 0)) > deviceCookieLifetime || time.Unix(issued, 0).After(now.Add(time.Minute)) {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Value))
	return hex.EncodeToString(sum[:16])
}
