package pubsubfake

// The Avro schemas the fake publishes its two real-time event monitoring
// topics with. The field names and types follow Salesforce's field reference
// for ApiEventStream and LoginEventStream
// (https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/salesforce-field-reference-apieventstream.html,
// ...-logineventstream.html); the shape follows Salesforce's published event
// schemas: a record in namespace com.sforce.eventbus, CreatedDate and
// CreatedById required, every other field a nullable union defaulting to
// null, and datetimes as epoch milliseconds in a long. Only the fields the
// exporter reads are listed, plus a few it ignores, so a decoder that trips
// on fields it does not know fails here.

// APIEventStreamSchema is the schema of /event/ApiEventStream.
const APIEventStreamSchema = `{
  "type": "record", "name": "ApiEventStream", "namespace": "com.sforce.eventbus",
  "fields": [
    {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
    {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
    {"name": "EventIdentifier", "type": ["null", "string"], "default": null},
    {"name": "EventUuid", "type": ["null", "string"], "default": null},
    {"name": "EventDate", "type": ["null", "long"], "doc": "Data:DateTime", "default": null},
    {"name": "UserId", "type": ["null", "string"], "default": null},
    {"name": "Username", "type": ["null", "string"], "default": null},
    {"name": "ConnectedAppId", "type": ["null", "string"], "default": null},
    {"name": "Application", "type": ["null", "string"], "default": null},
    {"name": "Client", "type": ["null", "string"], "default": null},
    {"name": "ApiType", "type": ["null", "string"], "default": null},
    {"name": "ApiVersion", "type": ["null", "double"], "default": null},
    {"name": "Operation", "type": ["null", "string"], "default": null},
    {"name": "QueriedEntities", "type": ["null", "string"], "default": null},
    {"name": "RowsProcessed", "type": ["null", "double"], "default": null},
    {"name": "ElapsedTime", "type": ["null", "int"], "default": null},
    {"name": "SourceIp", "type": ["null", "string"], "default": null},
    {"name": "SessionKey", "type": ["null", "string"], "default": null},
    {"name": "LoginKey", "type": ["null", "string"], "default": null},
    {"name": "AdditionalInfo", "type": ["null", "string"], "default": null}
  ]
}`

// LoginEventStreamSchema is the schema of /event/LoginEventStream.
const LoginEventStreamSchema = `{
  "type": "record", "name": "LoginEventStream", "namespace": "com.sforce.eventbus",
  "fields": [
    {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
    {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
    {"name": "EventIdentifier", "type": ["null", "string"], "default": null},
    {"name": "EventUuid", "type": ["null", "string"], "default": null},
    {"name": "EventDate", "type": ["null", "long"], "doc": "Data:DateTime", "default": null},
    {"name": "UserId", "type": ["null", "string"], "default": null},
    {"name": "Username", "type": ["null", "string"], "default": null},
    {"name": "Application", "type": ["null", "string"], "default": null},
    {"name": "Browser", "type": ["null", "string"], "default": null},
    {"name": "Platform", "type": ["null", "string"], "default": null},
    {"name": "LoginType", "type": ["null", "string"], "default": null},
    {"name": "LoginUrl", "type": ["null", "string"], "default": null},
    {"name": "Status", "type": ["null", "string"], "default": null},
    {"name": "SourceIp", "type": ["null", "string"], "default": null},
    {"name": "ApiType", "type": ["null", "string"], "default": null},
    {"name": "ApiVersion", "type": ["null", "string"], "default": null},
    {"name": "LoginKey", "type": ["null", "string"], "default": null},
    {"name": "LoginHistoryId", "type": ["null", "string"], "default": null},
    {"name": "AdditionalInfo", "type": ["null", "string"], "default": null}
  ]
}`

// The topics the fake serves from the start.
const (
	TopicAPIEventStream   = "/event/ApiEventStream"
	TopicLoginEventStream = "/event/LoginEventStream"
)
