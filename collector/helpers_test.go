package collector

import "os"

func writeFileErr(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
