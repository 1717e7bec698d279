package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const grantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

// iamError is the IAM endpoint's error body.
type iamError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Context      struct {
		RequestID string `json:"requestId"`
	} `json:"context"`
}

func (s *Server) iamFail(status int, code, msg string) *response {
	var e iamError
	e.ErrorCode, e.ErrorMessage = code, msg
	var id [8]byte
	_, _ = rand.Read(id[:])
	e.Context.RequestID = hex.EncodeToString(id[:])
	return s.jsonResp(status, e)
}

// handleToken serves POST /identity/token: an API-key exchange
// (application/x-www-form-urlencoded grant_type and apikey). A wrong key
// gets 400 BXNIM0415E, as the document's Authentication section warns.
func (s *Server) handleToken(c *call) *response {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return s.iamFail(http.StatusBadRequest, "BXNIM0109E", "Property missing or empty: Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 64<<10))
	if err != nil {
		return s.iamFail(http.StatusBadRequest, "BXNIM0109E", "reading the request body: "+err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return s.iamFail(http.StatusBadRequest, "BXNIM0109E", "malformed form body")
	}
	if gt := form.Get("grant_type"); gt != grantTypeAPIKey {
		return s.iamFail(http.StatusBadRequest, "BXNIM0111E", "Provided grant type is invalid: "+truncate(gt, 60))
	}
	key := form.Get("apikey")
	if key == "" {
		return s.iamFail(http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name: apikey")
	}
	if s.cfg.Faults.RefuseAPIKey || key != s.cfg.APIKey {
		return s.iamFail(http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found.")
	}
	life := defaultTokenLifetime
	if ttl := s.cfg.Faults.TokenTTL; ttl > 0 && ttl < life {
		life = ttl
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return s.iamFail(http.StatusInternalServerError, "BXNIM0001E", "generating token")
	}
	tok := "eyEMU." + hex.EncodeToString(raw[:])
	now := time.Now()
	expires := now.Add(life)
	s.mu.Lock()
	if len(s.tokens) >= 1024 {
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
				delete(s.revoked, t)
			}
		}
	}
	s.tokens[tok] = expires
	s.issued++
	s.mu.Unlock()
	return s.jsonResp(http.StatusOK, struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		Expiration   int64  `json:"expiration"`
		Scope        string `json:"scope"`
	}{tok, "not_supported", "Bearer", int64((life + time.Second - 1) / time.Second), expires.Unix(), "ibm openid"})
}

// authenticate checks "Authorization: Bearer <token>" and returns the token.
func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", errorf(http.StatusUnauthorized, "Invalid or missing auth token: want Authorization: Bearer <IAM token>")
	}
	tok := strings.TrimSpace(v[7:])
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	revoked := s.revoked[tok]
	s.mu.Unlock()
	switch {
	case !ok:
		return "", errorf(http.StatusUnauthorized, "Invalid or missing auth token")
	case revoked || !time.Now().Before(exp):
		return "", errorf(http.StatusUnauthorized, "Invalid or missing auth token: the token has expired")
	}
	return tok, nil
}

func (s *Server) revoke(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[tok] = true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
