/**
 * Festivals: a calendar of shopping events (6.18, 11.11 with its pre-sale, 12.12, or a
 * scenario's own), tabulated once per scenario.
 *
 * Each occurrence of a festival in the horizon has, in day order:
 *   deferral window (deferralDays before the festive period): a share of each day's
 *     demand (deferralShare, 5-20%: Li, Granados & Netessine 2014) is moved to the event;
 *   pre-sale window (presaleStart .. the day before the event): traffic x presaleUplift;
 *   event days (durationDays from date): traffic x uplift (demand created);
 *   post-event dip (dipDays after): demand equal to dipShare of the created bump is pulled
 *     forward from these days into the event, decaying linearly (4-25% of the bump:
 *     van Heerde, Leeflang & Wittink 2000).
 * Deferral and dip move demand, they never create it: with uplift = presaleUplift = 1 the
 * total expected arrivals over the horizon are unchanged (a property test holds this).
 * Rivals discount by competitorDiscount on pre-sale and event days. Festivals recur every
 * calendar year the horizon covers; windows are clipped to the horizon.
 */
import type { Festival } from '../scenarios/schema.js';
import type { Calendar } from './calendar.js';

export interface FestivalCalendar {
  /** 1 on event days. */
  readonly eventDay: Uint8Array;
  /** 1 on pre-sale days. */
  readonly presaleDay: Uint8Array;
  /** Rivals' discount share per day (0 outside festivals). */
  readonly competitorDiscount: Float64Array;
  /** Days until the next event day (0 on an event day), capped at `farAway`. */
  readonly daysToNextEvent: Int16Array;
  /** Name of the festival on each festive day, or ''. */
  readonly festivalName: readonly string[];
  readonly occurrences: readonly FestivalOccurrence[];
}

export interface FestivalOccurrence {
  readonly festival: Festival;
  readonly presaleStart: number;
  readonly eventStart: number;
  readonly eventEnd: number; // exclusive
}

export const farAway = 365;
const MAX_DEFERRED_SHARE = 0.9;

export function buildFestivalCalendar(festivals: readonly Festival[], calendar: Calendar): FestivalCalendar {
  const days = calendar.days;
  const eventDay = new Uint8Array(days);
  const presaleDay = new Uint8Array(days);
  const competitorDiscount = new Float64Array(days);
  const festivalName: string[] = new Array<string>(days).fill('');
  const occurrences: FestivalOccurrence[] = [];
  for (const festival of festivals) {
    for (let day = 0; day < days; day++) {
      if (calendar.monthDay[day] !== festival.date) continue;
      const presaleLead = festival.presaleStart === undefined ? 0 : daysBetween(festival.presaleStart, festival.date);
      occurrences.push({ festival, presaleStart: day - presaleLead, eventStart: day, eventEnd: day + festival.durationDays });
    }
  }
  occurrences.sort((first, second) => first.eventStart - second.eventStart);
  for (const occurrence of occurrences) {
    for (let day = Math.max(0, occurrence.presaleStart); day < Math.min(days, occurrence.eventEnd); day++) {
      const isEvent = day >= occurrence.eventStart;
      if (isEvent) eventDay[day] = 1;
      else presaleDay[day] = 1;
      competitorDiscount[day] = Math.max(competitorDiscount[day] ?? 0, occurrence.festival.competitorDiscount);
      festivalName[day] = occurrence.festival.name;
    }
  }
  const daysToNextEvent = new Int16Array(days);
  let next = farAway;
  for (let day = days - 1; day >= 0; day--) {
    next = eventDay[day] === 1 ? 0 : Math.min(farAway, next + 1);
    daysToNextEvent[day] = next;
  }
  return { eventDay, presaleDay, competitorDiscount, daysToNextEvent, festivalName, occurrences };
}

/**
 * Applies every festival occurrence to one segment's expected daily arrivals (in place
 * on a copy): creates the uplift and moves deferred and dip demand into the event days.
 */
export function applyFestivalsToRates(baseRates: Float64Array, calendar: FestivalCalendar, sensitivity: number): Float64Array {
  const rates = Float64Array.from(baseRates);
  const days = rates.length;
  const inHorizon = (day: number) => day >= 0 && day < days;
  for (const { festival, presaleStart, eventStart, eventEnd } of calendar.occurrences) {
    const eventDays: number[] = [];
    for (let day = eventStart; day < eventEnd; day++) if (inHorizon(day)) eventDays.push(day);
    if (eventDays.length === 0) continue;
    let createdOnEvent = 0;
    for (const day of eventDays) {
      const created = (rates[day] ?? 0) * (festival.uplift - 1) * sensitivity;
      rates[day] = (rates[day] ?? 0) + created;
      createdOnEvent += created;
    }
    for (let day = Math.max(0, presaleStart); day < eventStart; day++) {
      rates[day] = (rates[day] ?? 0) * (1 + (festival.presaleUplift - 1) * sensitivity);
    }
    let moved = 0;
    const deferredShare = Math.min(MAX_DEFERRED_SHARE, festival.deferralShare * sensitivity);
    for (let day = presaleStart - festival.deferralDays; day < presaleStart; day++) {
      if (!inHorizon(day)) continue;
      const deferred = (rates[day] ?? 0) * deferredShare;
      rates[day] = (rates[day] ?? 0) - deferred;
      moved += deferred;
    }
    if (festival.dipDays > 0 && festival.dipShare > 0) {
      const dipTotal = festival.dipShare * createdOnEvent;
      const weightSum = (festival.dipDays * (festival.dipDays + 1)) / 2;
      for (let offset = 0; offset < festival.dipDays; offset++) {
        const day = eventEnd + offset;
        if (!inHorizon(day)) continue;
        const pulled = Math.min(MAX_DEFERRED_SHARE * (rates[day] ?? 0), (dipTotal * (festival.dipDays - offset)) / weightSum);
        rates[day] = (rates[day] ?? 0) - pulled;
        moved += pulled;
      }
    }
    for (const day of eventDays) rates[day] = (rates[day] ?? 0) + moved / eventDays.length;
  }
  return rates;
}

/** Days from month-day `from` forward to month-day `to` (0..365), in a non-leap year. */
function daysBetween(from: string, to: string): number {
  const dayOfYear = (monthDay: string) => {
    const [month, day] = monthDay.split('-').map(Number);
    return (Date.UTC(2025, (month ?? 1) - 1, day ?? 1) - Date.UTC(2025, 0, 1)) / 86_400_000;
  };
  return (dayOfYear(to) - dayOfYear(from) + 365) % 365;
}
