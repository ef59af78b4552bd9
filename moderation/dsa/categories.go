package dsa

// Categories are the categories a notice of illegal content names: the
// values of the "category" attribute of a statement of reasons in the
// Commission's DSA Transparency Database API
// (https://transparency.dsa.ec.europa.eu/page/api-documentation), so that
// a notice's category carries over unchanged to the statements and reports
// made about it. STATEMENT_CATEGORY_OTHER_VIOLATION_TC (a breach of the
// terms, not of the law) is left out: a notice is about illegal content.
var Categories = []string{
	"STATEMENT_CATEGORY_ANIMAL_WELFARE",
	"STATEMENT_CATEGORY_CONSUMER_INFORMATION",
	"STATEMENT_CATEGORY_CYBER_VIOLENCE",
	"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
	"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
	"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
	"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
	"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
	"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
	"STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
	"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
	"STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
	"STATEMENT_CATEGORY_SELF_HARM",
	"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
	"STATEMENT_CATEGORY_VIOLENCE",
}

var categoryLabels = map[string][2]string{ // English, French
	"STATEMENT_CATEGORY_ANIMAL_WELFARE":                                   {"Animal welfare", "Bien-être animal"},
	"STATEMENT_CATEGORY_CONSUMER_INFORMATION":                             {"Consumer information infringements", "Atteintes à l'information des consommateurs"},
	"STATEMENT_CATEGORY_CYBER_VIOLENCE":                                   {"Cyber violence", "Cyberviolence"},
	"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN":                     {"Cyber violence against women", "Cyberviolence à l'égard des femmes"},
	"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS":           {"Data protection and privacy violations", "Atteintes à la protection des données et à la vie privée"},
	"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH":                        {"Illegal or harmful speech", "Discours illicites ou préjudiciables"},
	"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS":              {"Intellectual property infringements", "Atteintes à la propriété intellectuelle"},
	"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": {"Negative effects on civic discourse or elections", "Effets négatifs sur le débat civique ou les élections"},
	"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE":                             {"Other illegal content", "Autre contenu illicite"},
	"STATEMENT_CATEGORY_PROTECTION_OF_MINORS":                             {"Protection of minors", "Protection des mineurs"},
	"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY":                         {"Risk for public security", "Risque pour la sécurité publique"},
	"STATEMENT_CATEGORY_SCAMS_AND_FRAUD":                                  {"Scams and fraud", "Escroqueries et fraude"},
	"STATEMENT_CATEGORY_SELF_HARM":                                        {"Self-harm", "Automutilation"},
	"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS":                   {"Unsafe and prohibited products", "Produits dangereux et interdits"},
	"STATEMENT_CATEGORY_VIOLENCE":                                         {"Violence", "Violence"},
}

// CategoryLabel is how people read a category, in lang ("en" or "fr").
func CategoryLabel(category, lang string) string {
	l, ok := categoryLabels[category]
	if !ok {
		return category
	}
	if lang == "fr" {
		return l[1]
	}
	return l[0]
}
