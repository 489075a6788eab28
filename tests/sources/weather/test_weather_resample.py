"""Hourly points over quarter-day periods, and the resampling to the 15-min grid, checked by
hand; properties of the resampling (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from elfe_ems.sources.weather import WeatherPoint, merge, resample

H = 3600
Q = 900
T0 = 1_792_800_000  # 2026-10-24 00:00 UTC


def period(
    start_h: float, hours: float, temp_c: float, wind_dir_deg: float = 200.0
) -> WeatherPoint:
    return WeatherPoint(
        int(T0 + start_h * H), int(hours * H), temp_c, 20.0, 35.0, wind_dir_deg, None
    )


def hour(start_h: float, temp_c: float, wind_dir_deg: float = 200.0) -> WeatherPoint:
    return WeatherPoint(int(T0 + start_h * H), H, temp_c, 10.0, 18.0, wind_dir_deg, 0.5)


# periods 00-06 h at 5 °C, 06-12 h at 11 °C, 12-18 h at 14 °C; hours 09, 10 and 11 at 9, 10
# and 12 °C. Temperature times: periods at their middle (03, 09, 15 h), hours at their start.
# The 06-12 h period keeps 06-09 h but its 09 h temperature loses to the 09 h hour.
PERIODS = [period(0, 6, 5.0), period(6, 6, 11.0), period(12, 6, 14.0)]
HOURS = [hour(9, 9.0), hour(10, 10.0), hour(11, 12.0)]


def by_time(points: list[WeatherPoint]) -> dict[float, WeatherPoint]:
    return {(p.target_time_s - T0) / H: p for p in points}


def test_hourly_points_win_over_the_periods_they_cover() -> None:
    quarters = by_time(resample(PERIODS + HOURS))
    assert sorted(quarters) == [k / 4 for k in range(18 * 4)]  # 00:00 to 17:45
    expected_c = {
        0.0: 5.0,  # held before the first temperature time (03 h)
        3.0: 5.0,
        6.0: 7.0,  # 5 + (9 - 5) * 3/6
        7.5: 8.0,  # 5 + (9 - 5) * 4.5/6
        9.0: 9.0,
        9.5: 9.5,
        10.75: 11.5,
        11.5: 12.25,  # 12 + (14 - 12) * 0.5/4
        15.0: 14.0,
        17.75: 14.0,  # held after the last
    }
    assert {t: quarters[t].temperature_c for t in expected_c} == expected_c
    assert quarters[8.75].wind_kmh == 20.0  # the period, where no hour covers it
    assert (quarters[9.0].wind_kmh, quarters[11.75].gust_kmh) == (10.0, 18.0)
    assert quarters[12.0].wind_kmh == 20.0
    assert {q.period_s for q in quarters.values()} == {Q}


def test_a_period_covered_by_hours_is_left_out_of_the_merge() -> None:
    hours = [hour(h, 10.0 + h) for h in range(6, 12)]
    merged = merge([*PERIODS, *hours])
    assert [(p.target_time_s - T0) / H for p in merged] == [0, 6, 7, 8, 9, 10, 11, 12]
    assert PERIODS[1] not in merged
    assert by_time(resample([*PERIODS, *hours]))[7.0].temperature_c == 17.0


def test_the_first_of_two_points_for_the_same_time_wins() -> None:
    first, second = hour(9, 9.0), hour(9, 30.0)
    assert merge([first, second]) == [first]


def test_a_wind_direction_is_never_averaged_across_north() -> None:
    points = [period(0, 6, 5.0, wind_dir_deg=350.0), hour(3, 6.0, wind_dir_deg=10.0)]
    directions = {(q.target_time_s - T0) / H: q.wind_dir_deg for q in resample(points)}
    assert set(directions.values()) == {350.0, 10.0}
    assert (directions[2.75], directions[3.0], directions[3.75], directions[4.0]) == (
        350.0,
        10.0,
        10.0,
        350.0,
    )


def test_sunshine_stays_the_hours_of_the_points_period() -> None:
    quarters = by_time(resample([hour(12, 10.0)]))
    assert [q.sunshine_h for q in quarters.values()] == [0.5] * 4


def test_a_gap_between_points_has_no_quarter_hours() -> None:
    quarters = by_time(resample([hour(0, 4.0), hour(3, 10.0)]))
    assert sorted(quarters) == [0.0, 0.25, 0.5, 0.75, 3.0, 3.25, 3.5, 3.75]
    assert quarters[0.75].temperature_c == 4.0 + 6.0 * 0.75 / 3


def test_nothing_to_resample_gives_nothing() -> None:
    assert resample([]) == []
    assert merge([]) == []


temperatures = st.floats(-60, 60, allow_nan=False)
hourly_lists = st.lists(
    st.tuples(st.integers(0, 72), temperatures), min_size=1, max_size=40, unique_by=lambda t: t[0]
)
period_lists = st.lists(
    st.tuples(st.integers(0, 12), temperatures), max_size=12, unique_by=lambda t: t[0]
)


@given(hourly_lists, period_lists)
def test_resampled_values_stay_within_the_points_and_on_the_grid(
    hours: list[tuple[int, float]], periods: list[tuple[int, float]]
) -> None:
    points = [hour(h, c) for h, c in hours] + [period(6 * p, 6, c) for p, c in periods]
    quarters = resample(points)
    temps = [c for _, c in hours + periods]
    assert all(q.target_time_s % Q == 0 for q in quarters)
    assert all(min(temps) - 1e-9 <= q.temperature_c <= max(temps) + 1e-9 for q in quarters)
    at_hours = {q.target_time_s: q.temperature_c for q in quarters}
    for h, c in hours:  # an hour's temperature is kept at its start
        assert at_hours[T0 + h * H] == c
