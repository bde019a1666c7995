package salesforce

import "strings"

// ID is a Salesforce record Id, in either of its two forms:
//
//   - 15 characters, case-sensitive: "0H4Ak000000XyZa" and "0H4ak000000xyza"
//     are two different records. The first three characters name the object
//     type (005 User, 0H4 ConnectedApplication, 888 Salesforce's own apps).
//   - 18 characters: the 15 plus a three-character suffix that encodes the
//     case of the 15, so that tools which ignore case can still tell Ids
//     apart. The suffix adds nothing to the Id itself.
//
// The API answers with either form, depending on the field (REST record Ids
// are 18; AppMenuItem.ApplicationId and the event log files' USER_ID are 15),
// and people paste either into a config. The two forms name the same record:
// Key is what to compare and index by, and it keeps the case.
type ID string

// IDKeyLength is the length of an Id's key, its case-sensitive 15-character form.
const IDKeyLength = 15

// Key returns the 15-character form: the Id's first 15 characters, case
// kept. An Id shorter than that (never a real one) is its own key.
func (id ID) Key() string {
	if len(id) > IDKeyLength {
		return string(id[:IDKeyLength])
	}
	return string(id)
}

// Same reports whether two Ids name the same record: their keys are equal,
// case included. Empty Ids name nothing, not even each other.
func (id ID) Same(other ID) bool { return id != "" && other != "" && id.Key() == other.Key() }

// IsInternalAppID reports whether a connected app id (15 or 18 characters)
// is a Salesforce-internal app's (prefix 888). ApiTotalUsage rows carry them;
// they have no ConnectedApplication row, so a caller must not take them for
// uninstalled third-party apps.
func IsInternalAppID(id string) bool { return len(id) >= IDKeyLength && strings.HasPrefix(id, "888") }

// IsExternalClientAppID reports whether an id (15 or 18 characters) is an
// External Client App's (prefix 0xI): the ExternalClientApplication Id, the
// App OAuth Usage identifier, and an ECA's AppMenuItem.ApplicationId.
func IsExternalClientAppID(id string) bool {
	return len(id) >= IDKeyLength && strings.HasPrefix(id, "0xI")
}
