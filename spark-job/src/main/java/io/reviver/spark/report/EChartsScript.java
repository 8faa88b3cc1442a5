package io.reviver.spark.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Properties;

/**
 * The Apache ECharts browser bundle ({@code dist/echarts.min.js}, Apache License 2.0, its licence header kept),
 * read from the {@code org.webjars.npm:echarts} WebJar on the classpath. The version is the WebJar's own
 * ({@code pom.properties}), so the parent pom's {@code echarts.version} is the only place that names it.
 */
final class EChartsScript {

    private static final String POM_PROPERTIES = "META-INF/maven/org.webjars.npm/echarts/pom.properties";

    private EChartsScript() {
    }

    /**
     * The bundle's source text, checked to be safe inside an HTML {@code <script>} element (no {@code </script} or
     * {@code <!--}, which would end or confuse the element).
     *
     * @throws IllegalStateException when the WebJar is not on the classpath or its bundle is not embeddable
     */
    static String source() {
        Properties pom = new Properties();
        try {
            pom.load(new StringReader(read(POM_PROPERTIES)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + POM_PROPERTIES + ": " + e.getMessage(), e);
        }
        String path = "META-INF/resources/webjars/echarts/" + pom.getProperty("version") + "/dist/echarts.min.js";
        String js = read(path);
        String lower = js.toLowerCase(Locale.ROOT);
        if (lower.contains("</script") || lower.contains("<!--")) {
            throw new IllegalStateException(path + " contains '</script' or '<!--' and cannot be inlined as is");
        }
        return js;
    }

    private static String read(String resource) {
        try (InputStream in = EChartsScript.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath: the org.webjars.npm:echarts "
                    + "WebJar (a runtime dependency of reviver-spark-job) is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }
}
