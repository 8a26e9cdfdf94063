import java.io.File;
import java.nio.charset.StandardCharsets;
import org.deidentifier.arx.*;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.metric.Metric;

/**
 * ARX 3.9 local recoding on a CSV extract, for bench/bench_local_recoding.py (this file only; ARX itself
 * is built outside the repository, see bench/README.md).
 *
 * Arguments: data.csv hierarchy-folder out.csv k iterations gs-factor. The configuration follows ARX's
 * Example38: k-anonymity, suppression limit 100 %, Loss metric with the given gs factor, then
 * optimizeIterativeFast with 1/iterations of the records per iteration. Prints the timings as JSON.
 */
public class Bench {
    public static void main(String[] args) throws Exception {
        String[] qis = {"alder", "kjonn", "kommune", "startdato", "tjeneste"};
        long t0 = System.nanoTime();
        Data data = Data.create(new File(args[0]), StandardCharsets.UTF_8, ';');
        for (String q : qis) {
            data.getDefinition().setAttributeType(q, AttributeType.QUASI_IDENTIFYING_ATTRIBUTE);
            data.getDefinition().setHierarchy(q, Hierarchy.create(new File(args[1] + "/" + q + ".csv"), StandardCharsets.UTF_8, ';'));
        }
        int k = Integer.parseInt(args[3]);
        int iterations = Integer.parseInt(args[4]);
        double gs = Double.parseDouble(args[5]);
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(new KAnonymity(k));
        config.setSuppressionLimit(1d);
        config.setQualityModel(Metric.createLossMetric(gs));
        ARXAnonymizer anonymizer = new ARXAnonymizer();
        long t1 = System.nanoTime();
        ARXResult result = anonymizer.anonymize(data, config);
        DataHandle output = result.getOutput();
        long t2 = System.nanoTime();
        result.optimizeIterativeFast(output, 1d / iterations);
        long t3 = System.nanoTime();
        output.save(new File(args[2]), ';');
        System.out.printf("{\"read_s\": %.3f, \"global_s\": %.3f, \"local_s\": %.3f, \"anonymise_s\": %.3f}%n",
            (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t3 - t1) / 1e9);
    }
}
