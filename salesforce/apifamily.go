package salesforce

import "bytes"

// APIFamily is the API an ApiTotalUsage event came through, as a small
// fixed set: the values of the exporter's family label. The file's own
// API_FAMILY values never reach a label; a value this list does not know
// is APIFamilyOther.
type APIFamily uint8

// The API families, in the order the metrics list them.
const (
	APIFamilyUnknown  APIFamily = iota // the file has no API_FAMILY column, or the value is empty
	APIFamilyREST                      // REST API
	APIFamilySOAP                      // SOAP API
	APIFamilyBulk                      // Bulk API (1.0): API_FAMILY Bulk, or an /async/ resource
	APIFamilyBulk2                     // Bulk API 2.0: a /jobs/ingest or /jobs/query resource
	APIFamilyApexREST                  // Apex REST (ApexREST, DirectApexREST)
	APIFamilyOther                     // a value this list does not know (DirectAura, ...)
	NumAPIFamilies
)

var familyNames = [NumAPIFamilies]string{"unknown", "rest", "soap", "bulk", "bulk2", "apex_rest", "other"}

// String is the family's label value.
func (f APIFamily) String() string {
	if f < NumAPIFamilies {
		return familyNames[f]
	}
	return familyNames[APIFamilyOther]
}

// IsBulk reports whether the family is one of the Bulk APIs.
func (f APIFamily) IsBulk() bool { return f == APIFamilyBulk || f == APIFamilyBulk2 }

// ClassifyAPIFamily maps an ApiTotalUsage row's API_FAMILY and
// API_RESOURCE to a family, without allocating. The object reference lists
// REST, SOAP, Bulk and ApexREST (and DirectApexREST, DirectAura); Bulk API
// 2.0 is REST-based, so its jobs are told by their resource (under
// /jobs/ingest or /jobs/query) whatever the family says, and Bulk API 1.0
// by its /async/ resource when the family is not Bulk.
func ClassifyAPIFamily(family, resource []byte) APIFamily {
	switch {
	case bytes.Contains(resource, []byte("/jobs/ingest")), bytes.Contains(resource, []byte("/jobs/query")):
		return APIFamilyBulk2
	case bytes.Contains(resource, []byte("/async/")):
		return APIFamilyBulk
	}
	family = bytes.TrimSpace(family)
	switch {
	case len(family) == 0:
		return APIFamilyUnknown
	case bytes.EqualFold(family, []byte("REST")):
		return APIFamilyREST
	case bytes.EqualFold(family, []byte("SOAP")):
		return APIFamilySOAP
	case bytes.EqualFold(family, []byte("Bulk")), bytes.EqualFold(family, []byte("BulkApi")):
		return APIFamilyBulk
	case bytes.EqualFold(family, []byte("Bulk2")), bytes.EqualFold(family, []byte("BulkApi2")), bytes.EqualFold(family, []byte("Bulk 2.0")):
		return APIFamilyBulk2
	case bytes.EqualFold(family, []byte("ApexREST")), bytes.EqualFold(family, []byte("DirectApexREST")):
		return APIFamilyApexREST
	}
	return APIFamilyOther
}
