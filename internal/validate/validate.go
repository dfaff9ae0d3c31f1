// Package validate holds the checks of values that cannot be true, shared
// by every resource so that the API has one vocabulary for them: country
// codes that ISO 3166-1 has not assigned, calendar dates outside any
// plausible range, and text that is not text (invalid UTF-8, control
// characters, lone UTF-16 surrogates in JSON).
package validate

import (
	"strings"
	"time"
	"unicode/utf8"
)

// iso3166 is every alpha-2 code officially assigned by ISO 3166-1 (249
// countries and territories). Reserved and user-assigned codes (UK, EU,
// XK, ZZ, …) are not nationalities a record may carry.
var iso3166 = func() map[string]bool {
	m := map[string]bool{}
	for c := range strings.FieldsSeq(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW`) {
		m[c] = true
	}
	return m
}()

// Country reports whether code is an assigned ISO 3166-1 alpha-2 code
// (upper case).
func Country(code string) bool { return iso3166[code] }

// MinYear is the earliest year of any date a record holds (birth,
// operation, detention): nothing CaseBridge records happened before it.
const MinYear = 1900

// Date returns what is wrong with a calendar date, or "".
func Date(t time.Time) string {
	if t.Year() < MinYear {
		return "must be a date from 1900-01-01 on"
	}
	if t.Year() > 9999 {
		return "must be a date before the year 10000"
	}
	return ""
}

// LoneSurrogate reports whether the JSON text holds a \u escape of a UTF-16
// surrogate that is not part of a pair (which a JSON decoder silently turns
// into U+FFFD), or bytes that are not UTF-8.
func LoneSurrogate(js []byte) bool {
	if !utf8.Valid(js) {
		return true
	}
	s := string(js)
	for i := 0; i+5 < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if s[i+1] != 'u' {
			i++ // skip the escaped character (\\ or \")
			continue
		}
		u, ok := hex4(s[i+2:])
		if !ok {
			continue
		}
		switch {
		case u >= 0xD800 && u <= 0xDBFF:
			if i+11 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if l, ok := hex4(s[i+8:]); ok && l >= 0xDC00 && l <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case u >= 0xDC00 && u <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
