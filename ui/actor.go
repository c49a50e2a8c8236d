package ui

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/middleware"
)

// actor is who acts in request r: userID ("" before anyone is known),
// from the client's address and user agent, through clientID's sign-in or
// the account pages.
func actor(r *http.Request, userID, clientID string) directory.Actor {
	a := directory.Actor{UserID: userID, UserAgent: r.UserAgent(), ClientID: clientID, Channel: directory.ChannelSignIn}
	if clientID == AccountClientID {
		a.Channel = directory.ChannelAccount
	}
	if ip := middleware.ClientIPFrom(r.Context()); ip.IsValid() {
		a.IP = ip.String()
	}
	return a
}
