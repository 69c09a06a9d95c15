-- Ident server database, schema version 5: the devices of SMS-confirmed
-- enrollments that were abandoned are removed when the next enrollment is
-- created or claimed (store/sqlite/devices.rs); this partial index holds only
-- the few devices waiting for their code, so finding them does not scan
-- every device.
CREATE INDEX devices_pending_sms ON devices(status) WHERE status = 'pending_sms';
