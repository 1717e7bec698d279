package httpx

import (
	"strings"
	"testing"
)

func TestAuthWrapsOnce(t *testing.T) {
	err := Auth(Auth(&APIError{Status: 401}))
	if strings.Count(err.Error(), ErrAuth.Error()) != 1 {
		t.Errorf("wrapped twice: %v", err)
	}
	if Auth(nil) != nil {
		t.Error("Auth(nil) != nil")
	}
}
