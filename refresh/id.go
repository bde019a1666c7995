package refresh

// ID is a Salesforce record Id, in its 15-character case-sensitive form or
// its 18-character form (the 15 plus a case checksum). The two forms name
// the same record; Key is what to compare and index by.
type ID string

// Key returns the 15-character form: the Id's first 15 characters.
func (id ID) Key() string {
	if len(id) > 15 {
		return string(id[:15])
	}
	return string(id)
}

// Same reports whether two Ids name the same record. Empty Ids name nothing.
func (id ID) Same(other ID) bool { return id != "" && other != "" && id.Key() == other.Key() }
