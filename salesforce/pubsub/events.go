package pubsub

import (
	"time"
)

// The topics of real-time event monitoring this package decodes.
const (
	TopicAPIEventStream   = "/event/ApiEventStream"
	TopicLoginEventStream = "/event/LoginEventStream"
)

// APIEvent is one ApiEventStream event: a user's query(), queryMore() or
// count() through SOAP, REST or Bulk API. Fields the event leaves null are
// zero. Username and SourceIP identify a person: keep them out of metric
// labels.
//
// Salesforce API docs: https://developer.salesforce.com/docs/platform/platform-events/guide/sforce-api-objects-apieventstream.html
type APIEvent struct {
	EventIdentifier string
	EventDate       time.Time
	UserID          string
	Username        string
	// ConnectedAppID is the 15-character Id of the connected app the call came through.
	ConnectedAppID  string
	Application     string
	Client          string
	APIType         string
	Operation       string
	QueriedEntities string
	RowsProcessed   float64
	SourceIP        string
}

// LoginEvent is one LoginEventStream event: a user's login. Fields the event
// leaves null are zero.
//
// Salesforce API docs: https://developer.salesforce.com/docs/platform/platform-events/guide/sforce-api-objects-logineventstream.html
type LoginEvent struct {
	EventIdentifier string
	EventDate       time.Time
	UserID          string
	Username        string
	Application     string
	LoginType       string
	LoginURL        string
	Status          string
	SourceIP        string
}

// apiEventWire and loginEventWire mirror the Avro records: every field but
// CreatedDate and CreatedById is a nullable union, and datetimes are epoch
// milliseconds. Fields of the schema not named here are skipped.
type apiEventWire struct {
	EventIdentifier *string  `avro:"EventIdentifier"`
	EventDate       *int64   `avro:"EventDate"`
	UserID          *string  `avro:"UserId"`
	Username        *string  `avro:"Username"`
	ConnectedAppID  *string  `avro:"ConnectedAppId"`
	Application     *string  `avro:"Application"`
	Client          *string  `avro:"Client"`
	APIType         *string  `avro:"ApiType"`
	Operation       *string  `avro:"Operation"`
	QueriedEntities *string  `avro:"QueriedEntities"`
	RowsProcessed   *float64 `avro:"RowsProcessed"`
	SourceIP        *string  `avro:"SourceIp"`
}

type loginEventWire struct {
	EventIdentifier *string `avro:"EventIdentifier"`
	EventDate       *int64  `avro:"EventDate"`
	UserID          *string `avro:"UserId"`
	Username        *string `avro:"Username"`
	Application     *string `avro:"Application"`
	LoginType       *string `avro:"LoginType"`
	LoginURL        *string `avro:"LoginUrl"`
	Status          *string `avro:"Status"`
	SourceIP        *string `avro:"SourceIp"`
}

// DecodeAPIEvent decodes an ApiEventStream event.
func DecodeAPIEvent(e Event) (APIEvent, error) {
	var w apiEventWire
	if err := e.Decode(&w); err != nil {
		return APIEvent{}, err
	}
	return APIEvent{
		EventIdentifier: str(w.EventIdentifier), EventDate: millis(w.EventDate),
		UserID: str(w.UserID), Username: str(w.Username), ConnectedAppID: str(w.ConnectedAppID),
		Application: str(w.Application), Client: str(w.Client), APIType: str(w.APIType),
		Operation: str(w.Operation), QueriedEntities: str(w.QueriedEntities),
		RowsProcessed: num(w.RowsProcessed), SourceIP: str(w.SourceIP),
	}, nil
}

// DecodeLoginEvent decodes a LoginEventStream event.
func DecodeLoginEvent(e Event) (LoginEvent, error) {
	var w loginEventWire
	if err := e.Decode(&w); err != nil {
		return LoginEvent{}, err
	}
	return LoginEvent{
		EventIdentifier: str(w.EventIdentifier), EventDate: millis(w.EventDate),
		UserID: str(w.UserID), Username: str(w.Username), Application: str(w.Application),
		LoginType: str(w.LoginType), LoginURL: str(w.LoginURL), Status: str(w.Status), SourceIP: str(w.SourceIP),
	}, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func millis(p *int64) time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.UnixMilli(*p).UTC()
}
