package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/web"
)

// initDataProtection builds the dataprotection module and adds it to mods:
// the service (scan and redact API, keys from the master key, discovery
// locations), its API and console pages, the navigation entry and the
// discovery scheduler.
func (a *App) initDataProtection(ctx context.Context, o Options, mods *modules) error {
	svc, err := discovery.New(ctx, o.Store, o.Keys, o.Config.DataProtection, o.Logger.With("module", "dataprotection"))
	if err != nil {
		return fmt.Errorf("data protection: %w", err)
	}
	if err := svc.SyncConfig(ctx); err != nil {
		return fmt.Errorf("data protection: %w", err)
	}
	mods.api.DataProtection.Service = svc
	mods.web.DataProtection.Service = svc
	mods.nav = append(mods.nav, web.Module{Key: web.ModuleDataProtection, Path: "/dataprotection",
		Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}})
	mods.background = append(mods.background, svc.Run)
	if o.Config.Demo {
		if err := dataProtectionDemo(ctx, o); err != nil {
			return fmt.Errorf("data protection demo: %w", err)
		}
	}
	return nil
}

// dataProtectionDemo creates, once, a demo folder in the data directory
// with a few files holding made-up personal and card data, and a location
// scanning it (not a cardholder-data environment, so its cards raise an
// alert at the first scan).
func dataProtectionDemo(ctx context.Context, o Options) error {
	dir, err := filepath.Abs(filepath.Join(o.Config.DataDir, "dataprotection-demo"))
	if err != nil {
		return err
	}
	all := identity.Scope{All: true}
	locs, err := o.Store.DPLocations(ctx, all)
	if err != nil {
		return err
	}
	for _, l := range locs {
		if l.Path == dir {
			return nil
		}
	}
	files := map[string]string{
		"crm/notas.txt":    "Llamada 12/03: la clienta Ana Ruiz (DNI 12345678Z) dicta su tarjeta 4111 1111 1111 1111, caduca 09/28.\n",
		"exports/ivr.csv":  "name,email,phone\nLuis Gómez,luis@example.com,+34 612 345 678\n",
		"chats/chat-1.txt": "Agente: ¿Me indica el código de seguridad?\nCliente: 123\n",
		"clean/faq.txt":    "Horario de atención: de 9 a 18 h, pedido 88451.\n",
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			return err
		}
	}
	var clientID int64
	if cs, err := o.Store.Clients(ctx, org.ClientFilter{Scope: all}); err == nil && len(cs) > 0 {
		clientID = cs[0].ID
	}
	l := store.DPLocation{Name: "Demo share", Path: dir, ClientID: clientID, IntervalSeconds: 3600, Enabled: true, ScanNow: true,
		ManagedBy: store.DPManagedDemo}
	err = o.Store.InTx(ctx, func(tx *store.Tx) error { return tx.DPCreateLocation(ctx, &l) })
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}
