package refresh

import (
	"encoding/json"
	"os"
)

func writeFileErr(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
