package bounces_test

import "testing"

func TestVERPClaims(t *testing.T) {
	e := newEnv(t, "")
	for addr, want := range map[string]bool{
		"bounces+1-xmctqrytwq7jwxx@example.org":                      true,
		"BOUNCES+anything@EXAMPLE.ORG":                               true,
		"bounces+@example.org":                                       true,
		"srs0=hhjk=tt=example.org=bounces+1-abc@forwarder.example":   true,
		"srs0=hhjk=tt=other.example=bounces+1-abc@forwarder.example": false,
		"bounces+1-abc@other.example":                                false,
		"jane+news@example.org":                                      false,
		"bounces@example.org":                                        false,
		"xbounces+1@example.org":                                     false,
	} {
		if got := e.verp.Claims(addr); got != want {
			t.Errorf("Claims(%q) = %v, want %v", addr, got, want)
		}
	}
}
