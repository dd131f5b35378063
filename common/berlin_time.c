#include "berlin_time.h"


/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm), so no libc time zone state is touched. */
static long long
days_from_civil(long long year, int month, int day)
{
    long long era, year_of_era, day_of_year, day_of_era;

    year -= month <= 2;
    era = (year >= 0 ? year : year - 399) / 400;
    year_of_era = year - era * 400;
    day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void
civil_from_days(long long days, long long *year, int *month, int *day)
{
    long long era, day_of_era, year_of_era, day_of_year, month_index;

    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    day_of_era = days - era * 146097;
    year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    month_index = (5 * day_of_year + 2) / 153;
    *day = (int) (day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int) (month_index < 10 ? month_index + 3 : month_index - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

static long long
floor_divide(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* 01:00 UTC on the last Sunday of a month (day 0 of 1970 was a Thursday). */
static long long
last_sunday_0100_utc(long long year, int month)
{
    long long last = days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) - 1;
    long long weekday = ((last % 7) + 7 + 4) % 7;   /* 0 = Sunday */

    return (last - weekday) * 86400 + 3600;
}

int
llmoin_berlin_utc_offset(long long unix_seconds)
{
    long long year;
    int       month, day;

    civil_from_days(floor_divide(unix_seconds, 86400), &year, &month, &day);
    return unix_seconds >= last_sunday_0100_utc(year, 3)
           && unix_seconds < last_sunday_0100_utc(year, 10) ? 7200 : 3600;
}

static void
berlin_date(long long unix_seconds, long long *year, int *month, int *day)
{
    civil_from_days(floor_divide(unix_seconds + llmoin_berlin_utc_offset(unix_seconds), 86400),
                    year, month, day);
}

void
llmoin_berlin_month(long long unix_seconds, char out[LLMOIN_MONTH_SIZE])
{
    long long year;
    int       month, day;

    berlin_date(unix_seconds, &year, &month, &day);
    year = ((year % 10000) + 10000) % 10000;
    out[0] = (char) ('0' + year / 1000);
    out[1] = (char) ('0' + year / 100 % 10);
    out[2] = (char) ('0' + year / 10 % 10);
    out[3] = (char) ('0' + year % 10);
    out[4] = '-';
    out[5] = (char) ('0' + month / 10);
    out[6] = (char) ('0' + month % 10);
    out[7] = '\0';
}

long long
llmoin_berlin_next_month(long long unix_seconds)
{
    long long year, midnight;
    int       month, day;

    berlin_date(unix_seconds, &year, &month, &day);
    midnight = days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1)
               * 86400;
    /* local midnight of the 1st; the offset there is the one before it */
    return midnight - llmoin_berlin_utc_offset(midnight - 3600);
}
