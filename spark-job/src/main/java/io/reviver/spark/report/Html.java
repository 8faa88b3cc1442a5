package io.reviver.spark.report;

import java.util.List;

/**
 * HTML text escaping and the page's tables. Every string that came from a report goes through {@link #escape}
 * before it reaches the page; the tables escape their cells themselves, so callers pass plain text.
 */
final class Html {

    /** Cells longer than this may wrap anywhere; shorter ones (figures) never wrap. */
    private static final int LONG_CELL = 40;

    private Html() {
    }

    /** {@code text} safe inside an element or a double- or single-quoted attribute value. */
    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * A table with a caption, a header row and body rows of plain text; cells showing {@link Figures#MISSING} get
     * class {@code missing}, cells longer than {@value #LONG_CELL} characters (paths, URIs) class {@code long}.
     *
     * @param rows each row as many cells as {@code header}
     */
    static String table(String caption, List<String> header, List<List<String>> rows) {
        StringBuilder b = new StringBuilder("<table>\n<caption>").append(escape(caption)).append("</caption>\n<tr>");
        for (String h : header) {
            b.append("<th>").append(escape(h)).append("</th>");
        }
        b.append("</tr>\n");
        for (List<String> row : rows) {
            b.append("<tr>");
            for (String cell : row) {
                String css = Figures.MISSING.equals(cell) ? " class=\"missing\""
                    : cell.length() > LONG_CELL ? " class=\"long\"" : "";
                b.append("<td").append(css).append('>').append(escape(cell)).append("</td>");
            }
            b.append("</tr>\n");
        }
        return b.append("</table>\n").toString();
    }

    /** A two-column table: one row per {name, value} pair. */
    static String fields(String caption, List<List<String>> pairs) {
        return table(caption, List.of("field", "value"), pairs);
    }
}
