package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/mosaic-cdp/mosaic"
)

// secretSetting names the installation secret that keys pseudonyms.
const secretSetting = "privacy_secret"

// Settings is the store's configuration values.
type Settings interface {
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// InstallationSecret returns the installation's secret, making it at the
// first start. It keys the pseudonyms of the audit log and the suppression
// list, so the same identifier gives the same pseudonym here and a
// different one in another installation. Losing it makes old pseudonyms
// unmatchable; keep it with the database's backups.
func InstallationSecret(ctx context.Context, st Settings) ([]byte, error) {
	v, err := st.Setting(ctx, secretSetting)
	if err == nil {
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("privacy: the stored installation secret is corrupt")
		}
		return b, nil
	}
	if mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return nil, fmt.Errorf("privacy: read the installation secret: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if err := st.PutSetting(ctx, secretSetting, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("privacy: store the installation secret: %w", err)
	}
	return b, nil
}
