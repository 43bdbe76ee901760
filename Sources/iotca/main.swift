import ArgumentParser; import IoTCAKit; print("iotca")
