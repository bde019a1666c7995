//go:build !unix

package cli

import "io/fs"

// oNoFollow is 0 where the system has no O_NOFOLLOW: O_EXCL alone refuses
// an existing link.
const oNoFollow = 0

// fileOwner is unknown on systems without Unix owners.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
