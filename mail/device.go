package mail

import "strings"

// marker is a name and the strings in a user agent that mean it.
type marker struct {
	name    string
	signals []string
}

// Browsers and systems, the more specific first: Edge and Opera also say
// Chrome, Chrome also says Safari, an iPhone also says Mac OS X.
var (
	browsers = []marker{{"Edge", []string{"Edg/", "Edge/"}}, {"Opera", []string{"OPR/", "Opera"}},
		{"Firefox", []string{"Firefox/", "FxiOS/"}}, {"Chrome", []string{"Chrome/", "CriOS/", "Chromium/"}},
		{"Safari", []string{"Safari/"}}, {"curl", []string{"curl/"}}}
	systems = []marker{{"iPhone", []string{"iPhone"}}, {"iPad", []string{"iPad"}}, {"Android", []string{"Android"}},
		{"Windows", []string{"Windows"}}, {"macOS", []string{"Mac OS X", "Macintosh"}}, {"ChromeOS", []string{"CrOS"}},
		{"Linux", []string{"Linux"}}}
)

// DeviceOf names the browser and system a user agent string says, roughly
// ("Firefox on Windows"), for a notice; "an unknown device" when it says
// nothing recognisable. It is a hint for the user, not a security fact:
// the string is whatever the browser sent.
func DeviceOf(ua string) string {
	browser, system := firstOf(ua, browsers), firstOf(ua, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "a browser on " + system
	}
	return "an unknown device"
}

func firstOf(ua string, ms []marker) string {
	for _, m := range ms {
		for _, s := range m.signals {
			if strings.Contains(ua, s) {
				return m.name
			}
		}
	}
	return ""
}
