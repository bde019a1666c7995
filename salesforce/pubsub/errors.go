package pubsub

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrReplayExpired matches the error reported when the service refuses a
// stored replay id: older than the retention window (72 hours) or corrupt.
// Events between that position and the fallback start are lost to the caller.
var ErrReplayExpired = errors.New("pubsub: replay id refused (expired or invalid)")

// ReplayExpiredError says which stored position was refused and where the
// subscription restarted.
type ReplayExpiredError struct {
	Topic    string
	ReplayID []byte
	Fallback Preset
	// Cause is the service's answer.
	Cause error
}

func (e *ReplayExpiredError) Error() string {
	return fmt.Sprintf("subscribe %s: replay id %s refused (expired or invalid), restarting from %s: %v",
		e.Topic, hex.EncodeToString(e.ReplayID), e.Fallback, e.Cause)
}

// Is makes errors.Is(err, ErrReplayExpired) true.
func (e *ReplayExpiredError) Is(target error) bool { return target == ErrReplayExpired }

// Unwrap returns the service's answer.
func (e *ReplayExpiredError) Unwrap() error { return e.Cause }

// DecodeError is an event that cannot be decoded: larger than the bound,
// with a schema that could not be fetched or parsed, or a payload that does
// not match its schema.
type DecodeError struct {
	SchemaID string
	ReplayID []byte
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode event (schema %q, replay id %s): %v", e.SchemaID, hex.EncodeToString(e.ReplayID), e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// handlerError carries the handler's error out of the stream untouched.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }
