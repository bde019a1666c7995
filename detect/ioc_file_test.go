package detect

import "testing"

// TestShippedIOCList parses the example list in docs/.
func TestShippedIOCList(t *testing.T) {
	t.Parallel()
	l, err := LoadIOCFile("campaigns-2025", "../docs/ioc-2025-salesforce-campaigns.txt")
	if err != nil {
		t.Fatal(err)
	}
	if l.Entries() != 20 {
		t.Fatalf("%d entries, want the 20 the UNC6395 advisory lists", l.Entries())
	}
	s, _ := NewIOCSet([]IOCList{l})
	if s.MatchString("208.68.36.90") != 1 || s.MatchString("185.220.101.34") != 0 {
		t.Fatal("the shipped list does not match as it should")
	}
}
