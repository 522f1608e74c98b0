/**
 * Card: calendar and weather effects on arrivals, estimated from a sales history and placed
 * in the scenario's own blocks (festivals, curves.seasonality, curves.temperature,
 * curves.demandMultiplier, weather and the segment's weather multipliers).
 *
 * Model. Every effect multiplies the market size (arrivals), as the simulator's festivals,
 * season and weather do (docs/market-model.md): log M_t gains sum_j beta_j x_jt with
 *   festival windows, per festival label L (a non-empty cell of the `festival` column):
 *     during: 1 on rows labelled L;
 *     before: 1 on the k periods before each run of L-labelled periods (not labelled L);
 *     after:  1 on the k periods after each run (not labelled L);
 *     k = 7 periods for daily rows, 1 for weekly rows (`festivalWindowPeriods`);
 *   season: low-order annual Fourier terms sin(2 pi h d / 365.25), cos(2 pi h d / 365.25),
 *     h = 1..H, d the day of the year (mid-week for weekly rows; for period numbers the
 *     scenario's own calendar from 2026-01-01): H = 1 when the history spans 365 to 729
 *     days, H = 2 from 730 days, none below 365 (an annual cycle is then not told apart
 *     from level and trend). Fourier terms rather than month effects: 2H parameters, smooth,
 *     and the sum is a curve expression the simulator evaluates as it is;
 *   weather: a temperature column (every cell a number) gives beta (T_t - Tbar), a log
 *     multiplier per degree C around the history's mean temperature; a state column gives
 *     one indicator per state but the most frequent (the baseline, multiplier 1).
 * Without traffic these columns are arrival covariates of the logit likelihood
 * (calibration/logit-poisson.ts); with traffic the arrivals are observed and the effects
 * are fitted to the traffic itself (`fitTrafficCalendar`): a Poisson log-linear model with
 * one intercept per store (profiled out: the conditional, multinomial, likelihood), weekday
 * levels as nuisance terms on dated daily rows, Newton with step halving, Wald intervals
 * scaled by the Pearson dispersion when it exceeds 1 (quasi-Poisson).
 *
 * Placement (`placeCalendarEffects`), with m = exp(beta) the window multipliers, D the
 * festival's days and K = k x days per period:
 *   m_before < 1 -> deferralShare = 1 - m_before over deferralDays = K (no pre-sale);
 *   m_before > 1 -> a pre-sale of K days, presaleUplift = m_before;
 *   uplift = max(1, m_during - moved / D), moved = K (1 - m_before)+ + K (1 - m_after)+
 *     (the simulator adds the deferred and dipped demand to the event days);
 *   m_after < 1 -> dipShare = K (1 - m_after) / ((uplift - 1) D) over dipDays = K;
 * so the scenario's mean multiplier over each window equals the fitted one (the dip decays
 * linearly in the simulator; its mean over the K days is what is matched). A post-event
 * boost (m_after > 1) has no place in the festival block and is listed as not placed.
 * Intervals of the placed values: the delta method on the window coefficients' covariance.
 * Season -> curves.seasonality = exp(sum of the Fourier terms); temperature ->
 * curves.demandMultiplier = exp(beta (temperature - Tbar)) and curves.temperature = the
 * least-squares Fourier fit of the temperatures (their mean when the history is short);
 * weather states -> a weather block whose transitions are the observed daily transition
 * frequencies per northern season (a Markov chain's maximum likelihood) and the segment's
 * multipliers exp(beta_state). Whatever has no place or no data is listed among defaults.
 *
 * The parts: calibration/calendar-design.ts (the design columns), calibration/calendar-traffic-fit.ts
 * (the coefficients, from a demand fit or the traffic) and calibration/calendar-placement.ts
 * (the placement into the scenario's blocks). This module gathers their exports.
 */
export { calendarDesign, seasonNames, type CalendarDesign, type CalendarOptions, type CalendarTerm, type FestivalInfo } from './calendar-design.js';
export { calendarFromDemandFit, conditionalPoisson, fitTrafficCalendar, type CalendarFit } from './calendar-traffic-fit.js';
export { placeCalendarEffects, type CalendarPlacement } from './calendar-placement.js';
