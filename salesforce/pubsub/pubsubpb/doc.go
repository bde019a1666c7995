// Package pubsubpb holds the Go code generated from Salesforce's Pub/Sub API
// definition (pubsub_api.proto, package eventbus.v1, vendored unchanged
// beside this file). Do not edit the .pb.go files: run `make pubsub-generate`,
// which installs the pinned generators and runs the go:generate line below.
// TestGeneratedCodeMatchesProto fails when the committed files drift from
// the proto.
package pubsubpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go_opt=Mpubsub_api.proto=github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb;pubsubpb --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mpubsub_api.proto=github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb;pubsubpb pubsub_api.proto
