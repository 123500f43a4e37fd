// Package notify delivers Custodia's notifications: e-mail over SMTP, signed
// webhooks with retries and a dead-letter record, Slack and Microsoft Teams.
package notify

import "context"

// Message is one e-mail. Text is the plain-text body; HTML is optional.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers (e.g. In-Reply-To, References); never
	// From, To, Subject or anything with a line break.
	Headers map[string]string
}

// Mailer sends e-mail. Modules that write to people (acknowledgements,
// thank-you notes, reminders) depend on this interface; the SMTP mailer of
// this package implements it.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}
