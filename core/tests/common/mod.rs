//! Fixtures shared by the core's integration tests (`mod common;`).

/// A deterministic CryptoRng for the tests (rand_core 0.10): the IVs it
/// gives are fixed, so encrypted answers can be compared byte for byte.
pub struct Fixed(pub u8);
impl rand_core::TryRng for Fixed {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        Ok(0x4142_4344)
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        Ok(0x4142_4344_4546_4748)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        for b in dst {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Fixed {}
