// Preference statistics: pairwise counts and win rates, Bradley–Terry (half-win ties or Davidson)
// by maximum likelihood, online Elo, bootstrap intervals, agreement (Cohen's κ, Krippendorff's α),
// active pair selection, and judgments (pairwise, best/worst, rankings) as pairwise outcomes.
export * from './counts.js';
export * from './bradley-terry.js';
export * from './bootstrap.js';
export * from './elo.js';
export * from './agreement.js';
export * from './active.js';
export * from './outcomes.js';
