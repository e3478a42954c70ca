package synth

// The vocabulary journeys are drawn from: an outdoor shop with a web site
// and two apps, selling in five countries. Names come with an ASCII form
// for e-mail addresses, as people write them.

// name is a name as shown and as written in an e-mail address.
type name struct{ Display, Slug string }

// country holds what goes with a person's country.
type country struct {
	Code, Locale, Timezone, Currency string
	Cities                           []string
	First, Last                      []name
	Domains                          []string // e-mail providers, most used first
	Carriers                         []string // mobile networks, for app context
}

// countries are the shop's markets. The home region (Options.Region) gets
// most people; see countryWeights.
var countries = []*country{
	{
		Code: "NL", Locale: "nl-NL", Timezone: "Europe/Amsterdam", Currency: "EUR",
		Cities: []string{"Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Tilburg", "Nijmegen"},
		First: names("Jan", "Sanne", "Daan", "Emma", "Lotte", "Bram", "Sophie", "Thijs", "Femke", "Ruben",
			"Anouk", "Joris", "Lieke", "Sem", "Noor", "Koen"),
		Last: []name{{"de Vries", "devries"}, {"Jansen", "jansen"}, {"de Jong", "dejong"}, {"Bakker", "bakker"},
			{"Visser", "visser"}, {"Smit", "smit"}, {"Meijer", "meijer"}, {"van den Berg", "vandenberg"},
			{"Mulder", "mulder"}, {"de Boer", "deboer"}, {"van Dijk", "vandijk"}, {"Bos", "bos"},
			{"Vos", "vos"}, {"Peters", "peters"}, {"Hendriks", "hendriks"}, {"van Leeuwen", "vanleeuwen"}},
		Domains:  []string{"gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "live.nl", "icloud.com"},
		Carriers: []string{"KPN", "Vodafone NL", "Odido"},
	},
	{
		Code: "US", Locale: "en-US", Timezone: "America/New_York", Currency: "USD",
		Cities: []string{"New York", "San Francisco", "Chicago", "Austin", "Seattle", "Boston", "Denver", "Atlanta"},
		First: names("Emily", "Michael", "Olivia", "James", "Sophia", "Daniel", "Ava", "Matthew", "Isabella",
			"Ethan", "Madison", "Joshua", "Chloe", "Andrew", "Grace", "Ryan"),
		Last: names("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
			"Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson"),
		Domains:  []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "hotmail.com"},
		Carriers: []string{"Verizon", "AT&T", "T-Mobile"},
	},
	{
		Code: "DE", Locale: "de-DE", Timezone: "Europe/Berlin", Currency: "EUR",
		Cities: []string{"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dresden"},
		First: []name{{"Lukas", "lukas"}, {"Anna", "anna"}, {"Leon", "leon"}, {"Mia", "mia"}, {"Jonas", "jonas"},
			{"Lena", "lena"}, {"Felix", "felix"}, {"Hannah", "hannah"}, {"Paul", "paul"}, {"Marie", "marie"},
			{"Jürgen", "juergen"}, {"Sabine", "sabine"}, {"Uwe", "uwe"}, {"Katrin", "katrin"}},
		Last: []name{{"Müller", "mueller"}, {"Schmidt", "schmidt"}, {"Schneider", "schneider"}, {"Fischer", "fischer"},
			{"Weber", "weber"}, {"Meyer", "meyer"}, {"Wagner", "wagner"}, {"Becker", "becker"}, {"Schulz", "schulz"},
			{"Hoffmann", "hoffmann"}, {"Schäfer", "schaefer"}, {"Koch", "koch"}, {"Bauer", "bauer"}, {"Richter", "richter"}},
		Domains:  []string{"gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.de"},
		Carriers: []string{"Telekom.de", "Vodafone.de", "o2 - de"},
	},
	{
		Code: "BE", Locale: "nl-BE", Timezone: "Europe/Brussels", Currency: "EUR",
		Cities: []string{"Brussel", "Antwerpen", "Gent", "Leuven", "Brugge", "Liège"},
		First: []name{{"Lucas", "lucas"}, {"Louise", "louise"}, {"Noah", "noah"}, {"Arthur", "arthur"},
			{"Elena", "elena"}, {"Jules", "jules"}, {"Finn", "finn"}, {"Lina", "lina"}, {"Wout", "wout"},
			{"Fien", "fien"}, {"Mathis", "mathis"}, {"Chloé", "chloe"}},
		Last: []name{{"Peeters", "peeters"}, {"Janssens", "janssens"}, {"Maes", "maes"}, {"Jacobs", "jacobs"},
			{"Mertens", "mertens"}, {"Willems", "willems"}, {"Claes", "claes"}, {"Goossens", "goossens"},
			{"Wouters", "wouters"}, {"De Smet", "desmet"}, {"Dubois", "dubois"}, {"Lambert", "lambert"}},
		Domains:  []string{"telenet.be", "skynet.be", "gmail.com", "hotmail.com", "proximus.be"},
		Carriers: []string{"Proximus", "Orange B", "BASE"},
	},
	{
		Code: "GB", Locale: "en-GB", Timezone: "Europe/London", Currency: "GBP",
		Cities: []string{"London", "Manchester", "Bristol", "Leeds", "Glasgow", "Edinburgh", "Birmingham"},
		First: names("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie", "Freya",
			"Thomas", "Poppy", "Alfie", "Ella", "William", "Lily"),
		Last: names("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
			"Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards"),
		Domains:  []string{"gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk", "outlook.com"},
		Carriers: []string{"EE", "Vodafone UK", "O2 - UK"},
	},
}

// names returns ASCII names whose slug is the lower-case name.
func names(ss ...string) []name {
	out := make([]name, len(ss))
	for i, s := range ss {
		b := []byte(s)
		for j, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[j] = c + 'a' - 'A'
			}
		}
		out[i] = name{s, string(b)}
	}
	return out
}

// workDomains are employers' mail domains, for second addresses.
var workDomains = []string{
	"northwind-trading.com", "brightlane.nl", "hollandsoft.nl", "acme-logistics.com",
	"riverbank-health.org", "bluefin-analytics.io", "stadtwerke-nord.de", "kingsbridge-law.co.uk",
}

// product is one item of the shop's catalogue; prices are in cents.
type product struct {
	ID, SKU, Name, Brand, Category, Slug string
	Cents                                int
}

var products = []product{
	{"P-10041", "AR-TRL-42", "Air Runner Trail Shoe", "Northpeak", "Shoes", "air-runner-trail-shoe", 11990},
	{"P-10058", "HK-MID-43", "Ridge Mid GTX Hiking Boot", "Northpeak", "Shoes", "ridge-mid-gtx-hiking-boot", 17995},
	{"P-10077", "TS-ORG-M", "Organic Cotton T-Shirt", "Fjellwear", "Apparel", "organic-cotton-t-shirt", 2450},
	{"P-10102", "BP-COM-20", "Commuter Backpack 20L", "Trailform", "Bags", "commuter-backpack-20l", 8900},
	{"P-10119", "BP-TRK-45", "Trekking Pack 45L", "Trailform", "Bags", "trekking-pack-45l", 15900},
	{"P-10155", "JK-RAIN-L", "Packable Rain Jacket", "Fjellwear", "Apparel", "packable-rain-jacket", 14900},
	{"P-10170", "FL-GRID-M", "Grid Fleece Midlayer", "Fjellwear", "Apparel", "grid-fleece-midlayer", 6995},
	{"P-10203", "BT-STL-750", "Insulated Steel Bottle 750 ml", "Summit Co", "Accessories", "insulated-steel-bottle", 3200},
	{"P-10288", "SK-MER-3P", "Merino Hiking Socks (3 pairs)", "Fjellwear", "Apparel", "merino-hiking-socks", 3995},
	{"P-10310", "TN-UL-2P", "Ultralight Two-Person Tent", "Summit Co", "Camping", "ultralight-two-person-tent", 42900},
	{"P-10356", "HL-400", "Rechargeable Head Lamp 400 lm", "Lumen Works", "Camping", "rechargeable-head-lamp", 5490},
	{"P-10391", "GL-TCH-M", "Touchscreen Running Gloves", "Northpeak", "Accessories", "touchscreen-running-gloves", 2700},
	{"P-10420", "CP-TRL", "Trail Cap", "Northpeak", "Accessories", "trail-cap", 1990},
	{"P-10466", "SB-DWN-5", "Down Sleeping Bag -5°C", "Summit Co", "Camping", "down-sleeping-bag", 28900},
	{"P-10490", "ST-GAS-1", "Compact Gas Stove", "Summit Co", "Camping", "compact-gas-stove", 4495},
	{"P-10512", "WT-GPS-2", "GPS Sport Watch 2", "Lumen Works", "Electronics", "gps-sport-watch-2", 24900},
	{"P-10533", "PB-10K", "Solar Power Bank 10,000 mAh", "Lumen Works", "Electronics", "solar-power-bank", 4990},
	{"P-10561", "TP-CRB-2", "Carbon Trekking Poles (pair)", "Trailform", "Accessories", "carbon-trekking-poles", 8995},
}

// categories are the category pages, with their path names.
var categories = []struct{ Name, Slug string }{
	{"Shoes", "shoes"}, {"Apparel", "apparel"}, {"Bags", "bags"}, {"Camping", "camping"},
	{"Accessories", "accessories"}, {"Electronics", "electronics"},
}

// searches are what people type into the search box.
var searches = []string{"tent", "rain jacket", "hiking boots", "merino", "backpack", "head lamp", "sleeping bag", "gps watch", "socks"}

// Browser user agents by kind of web device.
var (
	desktopAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
	}
	mobileAgents = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
		"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
	}
	tabletAgents = []string{
		"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	}
)

// appModel is a phone or tablet the apps run on.
type appModel struct {
	Manufacturer, Model, Name, OS, OSVersion string
	Width, Height                            int
	Density                                  float64
}

var (
	iosModels = []appModel{
		{"Apple", "iPhone15,2", "iPhone", "iOS", "17.5.1", 393, 852, 3},
		{"Apple", "iPhone14,7", "iPhone", "iOS", "17.4", 390, 844, 3},
		{"Apple", "iPhone16,1", "iPhone", "iOS", "18.0", 393, 852, 3},
	}
	androidModels = []appModel{
		{"Google", "Pixel 8", "shiba", "Android", "14", 412, 915, 2.625},
		{"samsung", "SM-S911B", "dm1q", "Android", "14", 360, 780, 3},
		{"OnePlus", "CPH2449", "OP5929L1", "Android", "13", 412, 919, 3.5},
	}
	tabletModels = []appModel{
		{"Apple", "iPad13,18", "iPad", "iPadOS", "17.5", 820, 1180, 2},
		{"samsung", "SM-X710", "gts9wifi", "Android", "14", 800, 1280, 2},
	}
)

// Web pages and app screens of the shop, by purpose.
const (
	pageHome = iota
	pageCategory
	pageProduct
	pageSearch
	pageCart
	pageCheckout
	pageSignup
	pageLogin
	pageAccount
	pageJournal
)

var (
	pageNames   = []string{"Home", "Category", "Product", "Search", "Cart", "Checkout", "Sign Up", "Log In", "Account", "Journal"}
	screenNames = []string{"Home", "Category", "Product Detail", "Search", "Cart", "Checkout", "Sign Up", "Log In", "Account", "Stories"}
)

// referrers of a session's landing page.
var referrers = []string{
	"https://www.google.com/", "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
	"https://www.instagram.com/", "", "",
}

// campaign is an e-mail campaign the shop sends.
type campaign struct{ ID, Name, Subject string }

var campaigns = []campaign{
	{"cmp_spring_sale", "spring_sale", "Spring sale: 20% off rain gear"},
	{"cmp_new_tents", "new_tents", "New: ultralight tents for two"},
	{"cmp_trail_guide", "trail_guide", "Five trails to walk this month"},
	{"cmp_cart_reminder", "cart_reminder", "You left something in your cart"},
	{"cmp_member_weekend", "member_weekend", "Members' weekend: free shipping"},
}

var plans = []string{"free", "plus", "pro"}

// Junk values real data carries where an identifier should be: what SDKs
// send when a variable was never set, and what people type into forms.
var (
	junkUserIDs = []string{"undefined", "null", "0", "anonymous", "-1", "00000000-0000-0000-0000-000000000000"}
	junkEmails  = []string{"test@test.com", "Test@Test.com", "a@a.com", "test@example.com", "noreply@gmail.com", "test@gmail.com"}
	junkPhones  = []string{"0000000000", "n/a", "000-000-0000"}
)

// zeroUUID is the advertising id phones send when ad tracking is off.
const zeroUUID = "00000000-0000-0000-0000-000000000000"

// Libraries by platform.
var (
	libWeb     = [2]string{"analytics.js", "npm:next-1.70.0"}
	libIOS     = [2]string{"analytics-ios", "4.1.8"}
	libAndroid = [2]string{"analytics-android", "4.11.3"}
	libServer  = [2]string{"analytics-node", "2.1.2"}
)
