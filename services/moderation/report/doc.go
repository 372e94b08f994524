// Package report renders transparency reports (moderation.TransparencyReport)
// as Markdown, CSV or JSON, and writes decision exports as CSV. vigil-review
// (GET /api/v1/reports/transparency, GET /api/v1/decisions/export) and
// vigilctl report transparency both render through it, so the published
// report and the API's agree byte for byte.
//
// Every CSV cell goes through SafeCell: post ids, categories and usernames
// come from outside and must not run as spreadsheet formulas.
package report
