package app

import "context"

// initISMS builds the isms module and adds it to mods.
func (a *App) initISMS(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
