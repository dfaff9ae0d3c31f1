package access_test

import (
	"slices"
	"testing"

	"github.com/casebridge/casebridge/internal/access"
)

func TestFilterRolesKeepsOnlyRolesOfTheKind(t *testing.T) {
	cases := []struct {
		kind    access.Kind
		claimed []string
		kept    []access.Role
		dropped []string
	}{
		{access.KindImmigrationPolice, []string{"officer", "liaison", "officer", "superuser"},
			[]access.Role{access.RoleOfficer}, []string{"liaison", "superuser"}},
		{access.KindEmbassy, []string{"liaison", "admin", "officer"},
			[]access.Role{access.RoleLiaison}, []string{"admin", "officer"}},
		{access.KindInteriorMinistry, []string{"admin", "coordinator"},
			[]access.Role{access.RoleAdmin, access.RoleCoordinator}, nil},
		{access.KindCourt, []string{"clerk", "supervisor"}, []access.Role{access.RoleClerk}, []string{"supervisor"}},
		{access.Kind("police"), []string{"officer"}, nil, []string{"officer"}},
		{access.KindCounterTrafficking, nil, nil, nil},
	}
	for _, tc := range cases {
		kept, dropped := access.FilterRoles(tc.kind, tc.claimed)
		if !slices.Equal(kept, tc.kept) || !slices.Equal(dropped, tc.dropped) {
			t.Errorf("%s %v: kept %v dropped %v, want %v and %v", tc.kind, tc.claimed, kept, dropped, tc.kept, tc.dropped)
		}
	}
}

func TestClassificationOrder(t *testing.T) {
	order := []access.Classification{access.Public, access.Restricted, access.Confidential, access.Secret}
	for i, a := range order {
		for j, b := range order {
			if got := a.AtMost(b); got != (i <= j) {
				t.Errorf("%s.AtMost(%s) = %v", a, b, got)
			}
		}
	}
	if access.Classification("top-secret").AtMost(access.Secret) || access.Public.AtMost("bogus") {
		t.Error("unknown classification compared as known")
	}
}
