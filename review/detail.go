package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Detail is the per-user data a report needs beyond a snapshot.
type Detail struct {
	Tokens   []TokenRow
	Inactive map[string]time.Time // user Id (15) -> when deactivated (LastModifiedDate)
	Taken    time.Time
	// APICalls is what fetching the detail cost, counted by the caller's
	// refresh.CallCounter on the client, the same way the command and the
	// /review page count it.
	APICalls int64
	// Err, when set, says why the per-user detail is missing.
	Err string
}

// FetchDetail reads every token with its user, the deactivated users, and,
// where OauthToken could not show them (AppUsage.TokensPerUser), the External
// Client Apps' per-user tokens. snap maps token rows to app Ids. It
// does not count its API calls: the caller counts them on the client (a
// refresh.CallCounter observer) and sets Detail.APICalls.
func FetchDetail(ctx context.Context, c *salesforce.Client, snap *snapshot.Snapshot, concurrency int) (*Detail, error) {
	d := &Detail{Inactive: map[string]time.Time{}, Taken: c.ServerNow()}
	ids := map[[2]string]string{}
	// An External Client App's tokens are OauthToken rows too (its groups):
	// they are filed under the app, or, when its figures were read per user
	// from the App OAuth Usage resources, left to those reads.
	ecas := map[[2]string]*snapshot.AppUsage{}
	// ecaByName is each External Client App by its name (lower case; nil
	// when several share it): its rows without a menu item that no group
	// of the snapshot names (the oauth_tokens source is off, or they are
	// newer), and that the snapshot does not give a connected app, are its
	// too, as the refresher files them.
	ecaByName := map[string]*snapshot.AppUsage{}
	for i := range snap.Apps {
		a := &snap.Apps[i]
		if a.Kind == snapshot.KindConnectedApp {
			ids[[2]string{a.Name, a.MenuItemID}] = a.ID
		}
		if a.Kind == snapshot.KindExternalClientApp {
			for _, g := range a.OauthTokenGroups {
				ecas[[2]string{g.AppName, g.MenuItemID}] = a
			}
			n := strings.ToLower(a.Name)
			if _, dup := ecaByName[n]; dup {
				ecaByName[n] = nil
			} else {
				ecaByName[n] = a
			}
		}
	}
	_, err := c.OauthTokens(ctx, salesforce.TokenQuery{Usernames: true, Concurrency: concurrency, Latest: true}, func(t salesforce.OauthToken) {
		row := TokenRow{
			App: t.AppName, AppID: ids[[2]string{t.AppName, t.AppMenuItemID}], Kind: snapshot.KindConnectedApp,
			Username: t.Username(), UserID: t.UserID, UserActive: t.UserActive(),
			AuthorizedAt: t.CreatedDate.Time, LastUsed: t.LastUsedDate.Time, UseCount: t.UseCount,
		}
		a, ok := ecas[[2]string{t.AppName, t.AppMenuItemID}]
		if _, isCA := ids[[2]string{t.AppName, t.AppMenuItemID}]; !ok && !isCA && t.AppMenuItemID == "" {
			a = ecaByName[strings.ToLower(t.AppName)]
			ok = a != nil
		}
		if ok {
			if a.TokensPerUser {
				return
			}
			row.App, row.AppID, row.Kind = a.Name, a.ID, snapshot.KindExternalClientApp
		}
		d.Tokens = append(d.Tokens, row)
	})
	if err != nil && !errors.Is(err, salesforce.ErrCountMismatch) {
		return nil, fmt.Errorf("read OauthToken rows: %w", err)
	}
	_, err = salesforce.Stream(ctx, c, "SELECT Id, Username, IsActive, LastModifiedDate FROM User WHERE IsActive = false", func(u salesforce.User) bool {
		d.Inactive[salesforce.ID(u.ID).Key()] = u.LastModifiedDate.Time
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read deactivated users: %w", err)
	}
	for i := range d.Tokens {
		if _, ok := d.Inactive[salesforce.ID(d.Tokens[i].UserID).Key()]; ok {
			d.Tokens[i].UserActive = false
		}
	}
	for _, a := range snap.Apps {
		if a.Kind != snapshot.KindExternalClientApp || !a.TokensPerUser {
			continue
		}
		users, err := c.ECAUsers(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("read External Client App users: %w", err)
		}
		for _, u := range users {
			toks, err := c.ECATokens(ctx, a.ID, u.UserIdentifier)
			if err != nil {
				return nil, fmt.Errorf("read External Client App tokens: %w", err)
			}
			_, inactive := d.Inactive[salesforce.ID(u.UserIdentifier).Key()]
			for _, t := range toks {
				d.Tokens = append(d.Tokens, TokenRow{
					App: a.Name, AppID: a.ID, Kind: snapshot.KindExternalClientApp, Username: u.Username, UserID: u.UserIdentifier,
					UserActive: !inactive, AuthorizedAt: t.InitialConnectionAt.Time, LastUsed: t.LastUsedAt.Time, UseCount: t.UseCount,
				})
			}
		}
	}
	return d, nil
}
