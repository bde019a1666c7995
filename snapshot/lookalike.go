package snapshot

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// maxSkeletonRunes bounds the part of a name Skeleton reads: app names are
// short (Salesforce allows 255 characters), and a hostile one must not cost
// more.
const maxSkeletonRunes = 255

// confusables maps letters that look like Latin ones (Cyrillic and Greek
// homoglyphs, and a few Latin forms) to them, after case folding: the
// look-alike letters of consent-phishing app names ("Dаta Loader" with a
// Cyrillic а).
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'l', 'ї': 'l', 'ј': 'j', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q',
	'ԝ': 'w', 'ӏ': 'l', 'ɩ': 'l', 'ь': 'b',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'n', 'ι': 'l', 'κ': 'k', 'μ': 'u', 'ν': 'v', 'ο': 'o',
	'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w',
	// Latin forms and digits that read as letters; i, l and 1 (and a
	// capital I, folded to i) are one letter in many fonts, as are 0 and o.
	'ı': 'l', 'ɑ': 'a', 'ɡ': 'g', 'ℓ': 'l', 'i': 'l', '1': 'l', '|': 'l', '0': 'o',
}

// Skeleton is the form of an app name that look-alikes share with the name
// they imitate: compatibility-decomposed (fullwidth and styled letters to
// plain ones), accents, zero-width and other format characters, spaces and
// punctuation dropped, case folded, Cyrillic and Greek homoglyphs mapped to
// the Latin letters they imitate, and "rn" read as "m", "vv" as "w". "Data
// Loader", "DataLoader", "data-loader", "Dаta Loader" (Cyrillic а) and
// "Data\u200bLoader" share one. It reads at most maxSkeletonRunes runes.
func Skeleton(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(truncateRunes(name, maxSkeletonRunes)) {
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsControl(r) {
			continue
		}
		r = unicode.ToLower(r)
		if c, ok := confusables[r]; ok {
			r = c
		}
		b.WriteRune(r)
	}
	s := b.String()
	return strings.NewReplacer("rn", "m", "vv", "w").Replace(s)
}

// truncateRunes is s's first n runes.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// markLookAlikes sets LookAlikeOf on each app that is not known yet shares
// its Skeleton with a known app of another Id (or one of them has none):
// a name that matches an approved app's only loosely (case, spaces,
// punctuation, look-alike letters, zero-width characters) is a look-alike,
// never the approved app. Apps of one Id are one app (seen by two
// sources), never look-alikes of each other; an app of exactly the same
// name is a twin, which the same-name alert covers, not marked here.
func markLookAlikes(apps []*AppUsage) {
	known := map[string][]*AppUsage{}
	for _, a := range apps {
		if a.Known && a.Name != "" && a.Name != OtherApps {
			sk := Skeleton(a.Name)
			known[sk] = append(known[sk], a)
		}
	}
	if len(known) == 0 {
		return
	}
	for _, a := range apps {
		if a.Known || a.Kind == KindSalesforceInternal || a.Name == NoConnectedApp || a.Name == NoLoginHistory {
			continue
		}
		for _, k := range known[Skeleton(a.Name)] {
			if a.ID != "" && salesforce.ID(a.ID).Same(salesforce.ID(k.ID)) || a.Name == k.Name {
				// One app; or an exact twin, which SalesforceSameNameApps pages on.
				continue
			}
			if a.LookAlikeOf == "" || k.Name < a.LookAlikeOf {
				a.LookAlikeOf, a.LookAlikeOfID = k.Name, k.ID
			}
		}
	}
}
