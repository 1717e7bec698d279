package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxTokenExpiry is the largest expiryTime accepted (24 hours).
const maxTokenExpiry = 86400

// accessToken is an issued bearer token.
type accessToken struct {
	keyID   string
	expires time.Time // real clock
}

// handleToken serves POST /api/v2/access/tokens.
func (s *Server) handleToken(c *call) *response {
	// Keys are looked up exactly (case-sensitively); other keys are ignored.
	var body map[string]json.RawMessage
	if err := readJSON(c.r, &body, nil); err != nil {
		return s.fail(err, s.peek(s.cfg.KeyID+"|"+bucketTokens))
	}
	var keyID string
	if raw, ok := body["keyId"]; ok {
		_ = json.Unmarshal(raw, &keyID)
	}
	bucketName := keyID + "|" + bucketTokens
	rl, retry, violation := s.take(bucketName, s.cfg.Clock())
	c.e.Violation = violation
	if retry > 0 {
		resp := s.fail(errorf(http.StatusTooManyRequests, "Rate limit exceeded"), rl)
		resp.retryAfter = retry
		return resp
	}
	c.e.KeyID = keyID
	if !s.knownKey(keyID, c.r.Header.Get("X-LW-UAKS")) {
		return s.fail(errorf(http.StatusUnauthorized, "Invalid access key id or secret key"), rl)
	}
	expiry := 0
	if raw, ok := body["expiryTime"]; ok {
		expiry, _ = strconv.Atoi(strings.TrimSpace(string(raw)))
	}
	if expiry < 1 || expiry > maxTokenExpiry {
		return s.fail(errorf(http.StatusBadRequest, "expiryTime is required and must be an integer from 1 to %d (seconds)", maxTokenExpiry), rl)
	}
	life := time.Duration(expiry) * time.Second
	if ttl := s.cfg.Faults.TokenTTL; ttl > 0 && ttl < life {
		life = ttl
	}
	var raw [28]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return s.fail(errorf(http.StatusInternalServerError, "generating token: %v", err), rl)
	}
	tok := "EMU_" + strings.ToUpper(hex.EncodeToString(raw[:]))
	now := s.cfg.Clock()
	expires := now.Add(life)

	s.mu.Lock()
	if len(s.tokens) >= 1024 {
		for t, at := range s.tokens {
			if !now.Before(at.expires) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[tok] = accessToken{keyID: keyID, expires: expires}
	s.mu.Unlock()

	resp := s.jsonResp(http.StatusCreated, struct {
		ExpiresAt string `json:"expiresAt"`
		Token     string `json:"token"`
	}{expires.UTC().Format(rfc3339Milli), tok})
	resp.rl = rl
	return resp
}

// authenticate checks the Authorization header ("Bearer <token>" or the raw
// token) and returns the token's key id.
func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(v) >= 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	if v == "" {
		return "", errorf(http.StatusUnauthorized, "Missing access token (Authorization header)")
	}
	s.mu.Lock()
	t, ok := s.tokens[v]
	s.mu.Unlock()
	if !ok {
		return "", errorf(http.StatusUnauthorized, "Invalid access token")
	}
	if !s.cfg.Clock().Before(t.expires) {
		return "", errorf(http.StatusUnauthorized, "Access token expired")
	}
	return t.keyID, nil
}

// knownKey reports whether id and secret are one of the account's keys.
func (s *Server) knownKey(id, secret string) bool {
	if id == s.cfg.KeyID {
		return secret == s.cfg.Secret
	}
	want, ok := s.cfg.MoreKeys[id]
	return ok && secret == want
}
