package httpx

import (
	"errors"
	"fmt"
)

// ErrAuth means the platform refused the credentials: nothing can be
// collected for the tenant, and the run stops before publishing anything.
// Clients wrap it (see Auth, or a sentinel of their own that wraps it) so
// that every layer above can tell it from other failures.
var ErrAuth = errors.New("authentication failed")

// Auth marks err as a refused credential unless it already is one.
func Auth(err error) error {
	if err == nil || errors.Is(err, ErrAuth) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrAuth, err)
}
