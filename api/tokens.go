package api

import "time"

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	// Name is the token's name, unique among tokens; required.
	Name string `json:"name"`
	// Role is "admin", "developer" or "viewer"; required.
	Role string `json:"role"`
}

// CreatedToken is the answer of POST /api/v1/tokens: the only time the token itself is shown.
type CreatedToken struct {
	// ID identifies the token, e.g. "tok-1a2b3c4d5e6f7a8b".
	ID string `json:"id"`
	// Name is the token's name.
	Name string `json:"name"`
	// Role is the token's role.
	Role string `json:"role"`
	// Token is the bearer token to send ("slw_…"); only its hash is kept.
	Token string `json:"token"`
}

// Token is a token as GET /api/v1/tokens lists it: never the token or its hash.
type Token struct {
	// ID identifies the token.
	ID string `json:"id"`
	// Name is the token's name.
	Name string `json:"name"`
	// Role is "admin", "developer" or "viewer".
	Role string `json:"role"`
	// CreatedAt is when the token was created (UTC).
	CreatedAt time.Time `json:"createdAt"`
}
