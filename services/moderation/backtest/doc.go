// Package backtest compares two rule sets over a corpus of past posts: the
// candidate a rule engineer is about to publish and the baseline (the
// published version, or another directory). For each rule it counts the
// posts flagged before and after, lists posts newly flagged and no longer
// flagged with samples, and estimates each rule's precision from
// moderators' past decisions on the same posts.
//
// Both sets run through engine.Engine, the code the workers run, so a
// backtest sees exactly what production would. The corpus is streamed;
// memory grows only with the number of flagged posts.
//
// Past decisions exist only for posts that some earlier rule flagged and a
// moderator judged, so a precision is an estimate over the decided subset:
// each report says how many of a rule's posts were decided.
package backtest
