package app

import "context"

// initIncidents builds the incidents module and adds it to mods.
func (a *App) initIncidents(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
