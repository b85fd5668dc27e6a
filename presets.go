package hookd

import "encoding/json"

// EventTypePresets are ready-made event catalogues of well-known senders,
// by preset name. Importing one adds its event types to a project.
var EventTypePresets = map[string][]EventType{
	"netlify": {
		{Name: "deploy_building", Description: "Deploy started: the site is being built for a new deploy.", Example: netlifyDeploy("building")},
		{Name: "deploy_created", Description: "Deploy succeeded: the new deploy is live on the CDN.", Example: netlifyDeploy("ready")},
		{Name: "deploy_failed", Description: "Deploy failed to complete.", Example: netlifyDeploy("error")},
		{Name: "deploy_locked", Description: "A deploy locked the site: later deploys are not published automatically.", Example: netlifyDeploy("ready")},
		{Name: "deploy_unlocked", Description: "The site is unlocked: deploys are published automatically again.", Example: netlifyDeploy("ready")},
		{Name: "submission_created", Description: "Someone submitted a form on the site.", Example: json.RawMessage(
			`{"id":"5e2f8a1b","form_name":"contact","site_url":"https://docs.example.com","created_at":"2026-11-23T10:00:00Z",` +
				`"data":{"name":"Ada","email":"ada@example.com","message":"Hello"}}`)},
	},
	"bump": {
		{Name: "doc.structure_change", Description: "The API documentation received a deployment with a structure change.",
			Example: json.RawMessage(`{"api":{"id":"1","name":"Payments API","slug":"payments","url":"https://bump.sh/acme/doc/payments",` +
				`"version":"2.1.0"},"diff":{"id":"d1","title":"Removed GET /v1/charges","public_url":"https://bump.sh/acme/doc/payments/changes/d1",` +
				`"breaking":true,"details":[{"id":"x1","name":"GET /v1/charges","status":"removed","type":"endpoint","breaking":true}]}}`)},
	},
}

func netlifyDeploy(state string) json.RawMessage {
	return json.RawMessage(`{"id":"6560f1c2","site_id":"a1b2c3","name":"docs","url":"http://docs.example.com",` +
		`"ssl_url":"https://docs.example.com","deploy_ssl_url":"https://6560f1c2--docs.netlify.app","state":"` + state +
		`","branch":"main","context":"production","commit_ref":"0123456789abcdef0123456789abcdef01234567",` +
		`"review_id":null,"error_message":null,"created_at":"2026-11-23T10:00:00Z"}`)
}
