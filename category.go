package newsletter

import "strings"

// CleanCategory trims a category name and collapses runs of inner white
// space into one space. The result is the display spelling.
func CleanCategory(name string) string {
	return strings.Join(strings.Fields(name), " ")
}

// CategoryKey returns the key under which categories are matched: the clean
// name in lower case, so "Top  Stories" and "top stories" are one category.
func CategoryKey(name string) string {
	return strings.ToLower(CleanCategory(name))
}

// Category is a topic articles are filed under and subscribers choose.
type Category struct {
	Name        string // display spelling: the first one seen
	Articles    int    // number of articles filed under it
	Subscribers int    // number of subscribers who chose it
}

// SplitCategories splits s on any of the separator runes, cleans each part and
// drops empty parts and case-insensitive duplicates, keeping the first
// spelling.
func SplitCategories(s string, seps string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
	return UniqueCategories(parts)
}

// UniqueCategories cleans names and drops empty ones and case-insensitive
// duplicates, keeping the first spelling and the order.
func UniqueCategories(names []string) []string {
	var out []string
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		n = CleanCategory(n)
		k := strings.ToLower(n)
		if n == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
	}
	return out
}

// MatchArticles is the rule that says which articles a reader receives:
// every article for a reader with no categories, else the articles that
// share at least one category with the reader (compared by CategoryKey).
// The order of arts is kept. The store's query that enqueues a campaign's
// recipients implements the same rule in SQL; a test pins the two together.
func MatchArticles(arts []*Article, categories []string) []*Article {
	if len(categories) == 0 {
		return arts
	}
	want := make(map[string]bool, len(categories))
	for _, c := range categories {
		want[CategoryKey(c)] = true
	}
	var out []*Article
	for _, a := range arts {
		for _, c := range a.Categories {
			if want[CategoryKey(c)] {
				out = append(out, a)
				break
			}
		}
	}
	return out
}
