"""The link from the wearable to the analysis: transports (BLE, serial, TCP, replay), the packet
decoder, and `Source`, which keeps a connection alive and hands out SI sample blocks."""
