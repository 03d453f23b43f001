// A key and value decoder for Kafka's DumpLogSegments (`--key-decoder-class HexDecoder
// --value-decoder-class HexDecoder`): prints bytes as lowercase hex, so reel's interop tests can
// compare any bytes exactly (the default StringDecoder decodes UTF-8, which loses binary bytes).
import org.apache.kafka.tools.api.Decoder;

public class HexDecoder implements Decoder<String> {
  public HexDecoder() {}

  @Override
  public String fromBytes(byte[] bytes) {
    if (bytes == null) return "null";
    StringBuilder out = new StringBuilder(bytes.length * 2 + 4);
    out.append("hex:");
    for (byte b : bytes) {
      out.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return out.toString();
  }
}
