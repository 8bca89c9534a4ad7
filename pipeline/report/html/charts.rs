//! The report's charts, drawn by plotters as inline SVG: bars per category (team, model) and
//! spend per day. Money arrives in micro-dollars; a chart is the only place it becomes a float,
//! to place a bar — every figure printed as text comes from the exact values.

use plotters::prelude::*;

/// Width of every chart in SVG pixels; the page scales it to its column.
const WIDTH: u32 = 720;
/// The bars' colour: the page's accent.
const BAR: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const FONT: &str = "sans-serif";

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the chart {title:?}: {detail}")]
pub struct ChartError {
    title: String,
    detail: String,
}

/// One horizontal bar per item, largest first as given, with the amount after the bar.
pub fn horizontal_bars(title: &str, items: &[(String, i128)]) -> Result<String, ChartError> {
    let fail = |e: &dyn std::fmt::Display| ChartError {
        title: title.to_owned(),
        detail: e.to_string(),
    };
    let rows = items.len().max(1);
    let height = 48 + 26 * rows as u32;
    let longest = items
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(4);
    let label_width = (longest as u32 * 7 + 12).clamp(60, 330);
    let top = items.iter().map(|(_, v)| usd(*v)).fold(0.0, f64::max);
    let x_max = if top > 0.0 { top * 1.25 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..x_max, (0..rows).into_segmented())
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_style((FONT, 11))
            .x_label_style((FONT, 10))
            .x_labels(6)
            .x_label_formatter(&|v| axis_usd(*v, x_max))
            .y_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) => rows
                    .checked_sub(i + 1)
                    .and_then(|top_down| items.get(top_down))
                    .map_or_else(String::new, |(label, _)| label.clone()),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, micros))| {
                // The first item at the top.
                let i = rows - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (usd(*micros), SegmentValue::Exact(i + 1)),
                    ],
                    BAR.filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, micros))| {
                let i = rows - 1 - i;
                Text::new(
                    dollars(*micros),
                    (usd(*micros) + x_max * 0.01, SegmentValue::CenterOf(i)),
                    (FONT, 11).into_font().color(&BLACK),
                )
            }))
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

/// One vertical bar per day of the month (`days[d]` is day d + 1).
pub fn daily_bars(title: &str, days: &[i128]) -> Result<String, ChartError> {
    let fail = |e: &dyn std::fmt::Display| ChartError {
        title: title.to_owned(),
        detail: e.to_string(),
    };
    let top = days.iter().map(|v| usd(*v)).fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.15 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(56)
            .build_cartesian_2d((1..days.len() + 1).into_segmented(), 0f64..y_max)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.len())
            .x_label_style((FONT, 10))
            .y_label_style((FONT, 10))
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(day) if day % 2 == 1 => day.to_string(),
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&|v| axis_usd(*v, y_max))
            .draw()
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(days.iter().enumerate().map(|(i, micros)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i + 1), 0.0),
                        (SegmentValue::Exact(i + 2), usd(*micros)),
                    ],
                    BAR.filled(),
                );
                bar.set_margin(0, 0, 2, 2);
                bar
            }))
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

/// An axis tick: as many decimals as the axis's range needs to tell ticks apart.
fn axis_usd(value: f64, max: f64) -> String {
    let decimals = match max {
        m if m >= 10.0 => 0,
        m if m >= 0.1 => 2,
        _ => 4,
    };
    format!("${value:.decimals$}")
}

/// Micro-dollars as dollars, for placing a bar.
fn usd(micros: i128) -> f64 {
    micros as f64 / 1e6
}

/// The label after a bar: whole cents, as the tables print them.
fn dollars(micros: i128) -> String {
    super::figures::usd_text(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_label_and_bar() {
        let items = vec![
            ("platform".to_owned(), 12_500_000),
            ("search & <ads>".to_owned(), 3_250_000),
        ];
        let svg = horizontal_bars("Spend by team", &items).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("platform"), "{svg}");
        assert!(
            svg.contains("search &amp; &lt;ads&gt;"),
            "SVG text is escaped: {svg}"
        );
        assert!(svg.contains("$12.50") && svg.contains("$3.25"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 1 + items.len(), "{svg}");

        let days = [0, 1_000_000, 250_000];
        let svg = daily_bars("Spend per day", &days).unwrap();
        assert_eq!(svg.matches("<rect").count(), 1 + days.len(), "{svg}");
    }

    #[test]
    fn axis_ticks_have_the_decimals_their_range_needs() {
        let cases = [
            (50.0, 120.0, "$50"),
            (0.05, 0.13, "$0.05"),
            (0.0025, 0.01, "$0.0025"),
        ];
        for (value, max, text) in cases {
            assert_eq!(axis_usd(value, max), text);
        }
    }

    #[test]
    fn an_empty_or_zero_chart_still_draws() {
        assert!(horizontal_bars("none", &[]).unwrap().starts_with("<svg"));
        assert!(daily_bars("zero", &[0; 30]).unwrap().starts_with("<svg"));
    }
}
