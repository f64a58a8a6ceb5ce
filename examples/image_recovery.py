"""An image from partial DCT measurements: the `sparseflow demo --image` job, customized.

Writes results/image-ascent/image.png (original, flow limit, ADMM basis pursuit; PSNR and SSIM in
the titles) and metrics.json.
"""

from sparseflow.image_demo import ImageDemoSettings, run_image_demo

settings = ImageDemoSettings(image="ascent", size=128, ratio=0.30, wavelet="haar", level=4)
metrics = run_image_demo("results/image-ascent", settings)
